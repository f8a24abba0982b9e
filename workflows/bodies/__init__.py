"""What automations send: request bodies of API v1, validated strictly, and storable JSON."""
