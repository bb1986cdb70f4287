"""Back-ends of the Voila apps that need the visiting browser: its stable client key."""
