"""Lambda function package: handler is `plan_job.app.handler`."""
