-- Serialise sign-ups of one Cognito user until the transaction ends (retried triggers can overlap).
SELECT pg_advisory_xact_lock(hashtextextended(%(cognito_user_id)s, 0))
