import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Platform } from '../lib/platform';
import { errorHandler } from './plugins/error-handler';
import { collectionRoutes } from './routes/collections';
import { documentRoutes } from './routes/documents';
import { queryRoutes } from './routes/query';
import { DocumentService } from './services/document-service';
import { QueryService } from './services/query-service';
import { ReindexService } from './services/reindex-service';

declare module 'fastify' {
  interface FastifyRequest {
    tenantId: string;
  }
}

/** Until API keys arrive (gateway issue), every request acts for this tenant. */
export const DEFAULT_TENANT = 'default';

export interface AppDependencies {
  platform: Platform;
  temporal: Client;
  logger?: FastifyServerOptions['logger'];
}

/** Builds the app; never listens (api/server.ts does), so tests can drive it directly. */
export async function buildApp({ platform, temporal, logger = false }: AppDependencies): Promise<FastifyInstance> {
  const { config } = platform;
  const app = Fastify({
    logger,
    // JSON uploads carry the document text: the same limit as files, plus room for the envelope.
    bodyLimit: config.MAX_UPLOAD_BYTES + 64 * 1024,
    requestTimeout: 120_000,
    connectionTimeout: 130_000,
    genReqId: () => crypto.randomUUID(),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(errorHandler);
  await app.register(multipart, { limits: { fileSize: config.MAX_UPLOAD_BYTES, files: 1 } });
  await app.register(swagger, {
    openapi: { info: { title: 'Grounded RAG platform', version: '1' } },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.decorateRequest('tenantId', '');
  app.addHook('onRequest', async (request) => {
    request.tenantId = DEFAULT_TENANT;
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  await app.register(documentRoutes, { prefix: '/v1', documents: new DocumentService(platform, temporal), maxUploadBytes: config.MAX_UPLOAD_BYTES });
  await app.register(collectionRoutes, { prefix: '/v1', reindex: new ReindexService(platform, temporal) });
  await app.register(queryRoutes, { prefix: '/v1', queries: new QueryService(temporal, platform.db, { rerankCandidates: config.RERANK_CANDIDATES }) });
  return app;
}
