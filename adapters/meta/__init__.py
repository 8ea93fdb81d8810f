"""Meta WhatsApp Cloud API adapters: webhook parsing and the Graph API client."""
