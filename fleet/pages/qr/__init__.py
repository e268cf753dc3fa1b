"""The merchant's QR page (/qr): report a fault from the sticker on the unit, no account."""
