"""WebSocket close codes (documented in docs/protocol.md)."""

RESUME = 4000  # reconnect and resume from your last seen id: nothing is lost
SIGNED_OUT = 4001  # session ended (logout, expiry, deactivation): sign in again
FORBIDDEN = 4003  # no longer allowed in this room (removed): do not reconnect
NOT_FOUND = 4004  # no such room, or not yours
AGREEMENTS = 4005  # accept the group's updated agreements first
ORIGIN_REFUSED = 1008  # before accept: the client sees HTTP 403
GOING_AWAY = 1001  # server shutting down: reconnect and resume
TRY_AGAIN = 1013  # server busy (its database did not answer the handshake): reconnect soon
