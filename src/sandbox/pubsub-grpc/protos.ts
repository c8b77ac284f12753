import { createRequire } from 'node:module';
import path from 'node:path';
import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * Pub/Sub's gRPC services, built from the .proto files that the official client ships
 * (@google-cloud/pubsub/build/protos), so that the sandbox speaks exactly the wire format the
 * client was generated from. Their google/api imports come from the google-gax copy that the
 * client itself loads.
 */
export interface PubsubServices {
  publisher: ServiceDefinition;
  subscriber: ServiceDefinition;
}

function protoDirs(): string[] {
  const clientPackage = require.resolve('@google-cloud/pubsub/package.json');
  const gaxEntry = createRequire(clientPackage).resolve('google-gax'); // …/google-gax/build/src/index.js
  return [path.join(path.dirname(clientPackage), 'build', 'protos'), path.join(path.dirname(gaxEntry), '..', 'protos')];
}

let loaded: PubsubServices | undefined;

export function pubsubServices(): PubsubServices {
  if (loaded) return loaded;
  const definition = loadSync('google/pubsub/v1/pubsub.proto', {
    includeDirs: protoDirs(),
    keepCase: false, // camelCase field names, as the Node client uses them
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const v1 = (loadPackageDefinition(definition) as unknown as {
    google: { pubsub: { v1: Record<'Publisher' | 'Subscriber', { service: ServiceDefinition }> } };
  }).google.pubsub.v1;
  loaded = { publisher: v1.Publisher.service, subscriber: v1.Subscriber.service };
  return loaded;
}
