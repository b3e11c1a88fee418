"""Messaging metrics from DynamoDB (`cruddur-messages`) outside Lambda: `python -m metrics follow | backfill`.

Both feed the Lambda's own handler (lambdas/messages_metrics, loaded by path, so
the code path is the deployed one) with writer-pool connections, which ask the
production guard (ALLOW_PROD_WRITES) before writing.
"""
