/** Where `lastmile receiver` listens by default, and where `lastmile init`'s project sends. */
export const DEMO_RECEIVER_PORT = 8787;
