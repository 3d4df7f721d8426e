"""The OpenAI-compatible surface: OpenAI's request and response shapes over Vocable's services."""
