"""The chat service on AWS: one CDK stack (`infra.stack.ChatStack`) made of one construct per concern."""
