"""The credential service family: refs, sealing, keyrings, the vault and its storage."""
