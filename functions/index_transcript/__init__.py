"""Lambda function package: handler is `index_transcript.app.handler`."""
