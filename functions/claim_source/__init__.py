"""Lambda function package: handler is `claim_source.app.handler`."""
