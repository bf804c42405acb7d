"""The participant's daily diary: entries as sent, versioned, never overwritten."""
