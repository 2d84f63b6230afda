"""AWS through the AWS SDK (aiobotocore): the clients the built-in integration steps call."""
