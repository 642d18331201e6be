"""The wire format, sans-io: requests to bytes and answers to models, and the one JSON codec."""
