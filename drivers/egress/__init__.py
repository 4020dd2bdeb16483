"""The egress policy at the socket: names resolved and every address checked before a connection."""
