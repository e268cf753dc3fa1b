"""Pages for after-sales service staff (/service): my tickets on a phone, one ticket."""
