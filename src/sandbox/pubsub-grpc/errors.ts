import { status } from '@grpc/grpc-js';

/**
 * An error the sandbox Pub/Sub answers with, carrying the gRPC status code and a message worded
 * like Google's, so that the official client reacts to it as it does to Pub/Sub itself
 * (NOT_FOUND and ALREADY_EXISTS are what `exists()`/`get({autoCreate})` look for).
 */
export class PubsubError extends Error {
  constructor(readonly code: status, message: string) {
    super(message);
  }

  static notFound(resource: string): PubsubError {
    return new PubsubError(status.NOT_FOUND, `Resource not found (resource=${resource}).`);
  }

  static alreadyExists(resource: string): PubsubError {
    return new PubsubError(status.ALREADY_EXISTS, `Resource already exists in the project (resource=${resource}).`);
  }

  static invalid(message: string): PubsubError {
    return new PubsubError(status.INVALID_ARGUMENT, message);
  }
}
