import { InternalConnectionLikeSymbol, type ConnectionLike } from '@temporalio/client';

/**
 * Eager workflow start needs a worker's NativeConnection shared with the client (the server hands
 * the first workflow task back in the start response, to a worker on that connection); the client
 * throws if asked over any other connection. This is how the SDK itself tells them apart.
 */
export function supportsEagerStart(connection: ConnectionLike): boolean {
  return (connection as { [InternalConnectionLikeSymbol]?: { supportsEagerStart?: boolean } })[InternalConnectionLikeSymbol]?.supportsEagerStart === true;
}
