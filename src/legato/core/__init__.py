"""The pure core: events, commands, retry math and the JSON codec. No I/O, no clock, no asyncio."""
