/**
 * The owner of a stream: every watch, cancel and input re-checks it
 * (DESIGN §10). Until authentication lands, every caller is the same
 * anonymous principal, so stream ids (128 random bits) are the only barrier.
 */
export const anonymousOwner = "anonymous";
