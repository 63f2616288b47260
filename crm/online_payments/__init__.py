"""Online payments (Stripe Checkout): client, stand-in, actions and the portal's pay pages."""
