"""Lambda function package: handler is `postprocess.app.handler`."""
