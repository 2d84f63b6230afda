-- What started an execution, as a JSON object whose `kind` says which: `api` (the HTTP API),
-- `schedule` (with the schedule and its fire time), `event` (the subscription and the event's
-- source and id). NULL: started by code (App.start), the CLI, or a parent.
ALTER TABLE executions ADD COLUMN started_by TEXT;
