"""Push notifications: FCM HTTP v1, device tokens and the notify sender."""
