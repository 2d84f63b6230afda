"""The Amazon States Language: definitions, validation, data flow and errors (pure code).

Everything here is a function of its arguments (DESIGN.md §2, STYLE.md "core"): the engine runs
state machines by calling it, never the other way round.
"""
