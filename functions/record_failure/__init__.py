"""Lambda function package: handler is `record_failure.app.handler`."""
