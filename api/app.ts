import { createServer } from 'node:http';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { Redis } from 'ioredis';
import type { Platform } from '../lib/platform';
import { AnswerCache } from '../lib/cache/answer-cache';
import type { Config } from '../lib/config';
import { supportsEagerStart } from '../lib/temporal/eager-start';
import { FallbackCounterStore, MemoryCounterStore, RedisCounterStore } from '../lib/gateway/counter-store';
import { ensureOperatorKey } from '../lib/gateway/bootstrap';
import { CostCeiling } from '../lib/gateway/cost-ceiling';
import { TokenBudget } from '../lib/gateway/token-budget';
import { auth } from './plugins/auth';
import { errorHandler } from './plugins/error-handler';
import { httpMetrics } from './plugins/http-metrics';
import { traceContext } from './plugins/trace-context';
import { rateLimits } from './plugins/rate-limits';
import { requestGuards } from './plugins/request-guards';
import { adminRoutes } from './routes/admin';
import { codecRoutes } from './routes/codec';
import { collectionRoutes } from './routes/collections';
import { documentRoutes } from './routes/documents';
import { feedbackRoutes } from './routes/feedback';
import { promptRoutes } from './routes/prompts';
import { experimentRoutes } from './routes/experiments';
import { modelRoutes } from './routes/models';
import { deploymentRoutes } from './routes/deployments';
import { healthRoutes } from './routes/health';
import { queryRoutes } from './routes/query';
import { usageRoutes } from './routes/usage';
import { CollectionService } from './services/collection-service';
import { DocumentService } from './services/document-service';
import { FeedbackService } from './services/feedback-service';
import { PromptService } from './services/prompt-service';
import { ExperimentService } from './services/experiment-service';
import { ModelService } from './services/model-service';
import { DeploymentService } from './services/deployment-service';
import { PromotionService } from './services/promotion-service';
import { DeploymentStore } from '../lib/stores/deployment-store';
import { platformCommit } from '../lib/build-info';
import { createHash } from 'node:crypto';
import { AdminService } from './services/admin-service';
import { QueryGateway } from './services/query-gateway';
import { QueryMetrics } from './services/query-metrics';
import { ANSWER_FORMAT, QueryService } from './services/query-service';
import { ReindexService } from './services/reindex-service';
import { UsageService } from './services/usage-service';

export interface AppDependencies {
  platform: Platform;
  temporal: Client;
  logger?: FastifyServerOptions['logger'];
}

/** How long an idle keep-alive connection stays open. */
export const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/** Builds the app; never listens (api/server.ts does), so tests can drive it directly. */
export async function buildApp({ platform, temporal: given, logger = false }: AppDependencies): Promise<FastifyInstance> {
  const { config } = platform;
  // Tracing on: workflows started from here carry the request's trace context in their headers.
  const plugin = platform.tracing.temporalPlugin;
  // The API's client encrypts what it sends (payload codec) and continues traces (plugin).
  const clientOptions = { connection: given.connection, plugins: plugin ? [plugin] : [], dataConverter: platform.payloads.dataConverter };
  const temporal = new Client({ ...clientOptions, namespace: given.options.namespace });
  // Query runs live in a namespace of their own (short retention), on the same connection.
  const queryTemporal = new Client({ ...clientOptions, namespace: config.TEMPORAL_QUERY_NAMESPACE });
  const app = Fastify({
    logger,
    // JSON uploads carry the document text: the same limit as files, plus room for the envelope.
    bodyLimit: config.MAX_UPLOAD_BYTES + 64 * 1024,
    // Slow uploads (a body trickling in) are cut off with 408 once this passes. Node checks
    // every 30 s by default, which would let a slow client hold a connection far longer.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    connectionTimeout: config.REQUEST_TIMEOUT_MS + 10_000,
    serverFactory: (handler) => {
      const server = createServer({ requestTimeout: config.REQUEST_TIMEOUT_MS, connectionsCheckingInterval: Math.min(1_000, config.REQUEST_TIMEOUT_MS / 2) }, handler);
      // Fastify's own default, which a server factory does not get: idle connections must outlive a
      // load balancer's (commonly 60 s), or it reuses one the API just closed and answers 502.
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      return server;
    },
    genReqId: () => crypto.randomUUID(),
    // Path parameters are validated by their schemas (document ids up to 128 characters); the
    // router's own limit (100) must not cut in first with an answer in another shape.
    routerOptions: { maxParamLength: 256 },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // First: the request span must wrap every hook and route registered after it.
  await app.register(traceContext, { tracing: platform.tracing.enabled });
  await app.register(httpMetrics, { metrics: platform.metrics });
  await app.register(errorHandler, { maxUploadBytes: config.MAX_UPLOAD_BYTES, metrics: platform.metrics });
  platform.metrics.watchBacklog(() => platform.metadata.countBacklog());
  await app.register(multipart, { limits: { fileSize: config.MAX_UPLOAD_BYTES, files: 1 } });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Grounded RAG platform', version: '1' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an API key: Authorization: Bearer <key> (or the x-api-key header)' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { connectTimeout: 1_000, maxRetriesPerRequest: 1, enableOfflineQueue: true }) : undefined;
  if (redis) {
    // Unreachable Redis: limits fall back to this instance (below); the client reconnects by itself.
    redis.on('error', (error) => app.log.warn({ err: error }, 'redis unavailable'));
    app.addHook('onClose', async () => void (await redis.quit().catch(() => redis.disconnect())));
  }
  const { keyFile } = await ensureOperatorKey(config, platform.tenants);
  if (keyFile) app.log.info({ keyFile }, 'the operator API key is in this file');

  await app.register(requestGuards);
  await app.register(cookie);
  // The Temporal UI (another origin of this site) calls the codec server with credentials; nothing else is cross-origin.
  const codecOrigins = (config.CODEC_CORS_ORIGINS ?? new URL(config.TEMPORAL_UI_URL).origin).split(',').map((o) => o.trim());
  await app.register(cors, {
    delegator: (request, callback) =>
      callback(null, request.url?.startsWith('/codec/') ? { origin: codecOrigins, credentials: true, methods: ['POST'], allowedHeaders: ['content-type', 'x-namespace', 'authorization'] } : { origin: false }),
  });
  await app.register(auth, { mode: config.GATEWAY_AUTH, tenants: platform.tenants, failuresPerMinute: config.AUTH_FAILURES_PER_MINUTE });
  if (config.RATE_LIMITS === 'on') await app.register(rateLimits, { defaultPerMinute: config.RATE_LIMIT_PER_MINUTE, redis });

  // Evidence names the code and the configuration that made a decision.
  const deployments = new DeploymentService(new DeploymentStore(platform.db), {
    platformCommit: platformCommit(),
    configHash: createHash('sha256').update(JSON.stringify(answerSettings(config))).digest('hex'),
  });
  const admin = new AdminService(platform.tenants, platform.audit, config.chatModels.map((m) => m.name), deployments);
  const collections = new CollectionService(platform, temporal);
  const counters = redis
    ? new FallbackCounterStore(new RedisCounterStore(redis), new MemoryCounterStore(), (error) => app.log.warn({ err: error }, 'budgets counted in this instance while redis is unavailable'))
    : new MemoryCounterStore();
  const limited = config.RATE_LIMITS === 'on';
  const queries = new QueryGateway({
    collections,
    queries: new QueryService(queryTemporal, platform.db, {
      rerankCandidates: config.RERANK_CANDIDATES,
      temporalUiUrl: config.TEMPORAL_UI_URL,
      eagerStart: config.TEMPORAL_EAGER_START === 'on' && supportsEagerStart(given.connection),
      onStarted: (mode, start) => platform.metrics.queryRunStarts.inc({ mode, start }),
    }),
    audit: platform.audit,
    budget: limited ? new TokenBudget(counters) : null,
    ceiling: limited ? new CostCeiling(counters, (tenantId, since) => platform.usage.spentSince(tenantId, since)) : null,
    prices: {
      inputPerMillionUsd: Math.max(0, ...config.chatModels.map((m) => m.costPerMillionInputUsd ?? 0)),
      outputPerMillionUsd: Math.max(0, ...config.chatModels.map((m) => m.costPerMillionOutputUsd ?? 0)),
    },
    guardrails: config.GUARDRAILS,
    estimate: { chunkTokens: config.CHUNK_SIZE_TOKENS, promptTokens: 250, outputTokens: Math.max(300, ...config.chatModels.map((m) => m.maxOutputTokens ?? 0)) },
    metrics: new QueryMetrics(platform.metrics),
    cache:
      platform.cache && config.ANSWER_CACHE !== 'off'
        ? {
            answers: new AnswerCache(platform.cache, platform.embedder, {
              ttlSeconds: config.ANSWER_CACHE_TTL_SECONDS,
              semanticThreshold: config.ANSWER_CACHE_SEMANTIC_THRESHOLD,
              semanticCandidates: config.ANSWER_CACHE_SEMANTIC_CANDIDATES,
              deadlineMs: config.CACHE_DEADLINE_MS,
              metrics: platform.metrics,
              onError: (error) => app.log.warn({ err: error }, 'answer cache unavailable: answering without it'),
            }),
            mode: config.ANSWER_CACHE,
            settings: answerSettings(config),
          }
        : null,
    ledger: platform.usage,
    answers: platform.answers,
    prompts: platform.prompts,
    experiments: platform.experiments,
  });

  await app.register(healthRoutes, { platform, temporal });
  await app.register(adminRoutes, { prefix: '/v1', admin });
  await app.register(documentRoutes, { prefix: '/v1', documents: new DocumentService(platform, temporal), admin, maxUploadBytes: config.MAX_UPLOAD_BYTES });
  await app.register(collectionRoutes, { prefix: '/v1', collections, reindex: new ReindexService(platform, temporal), admin });
  await app.register(queryRoutes, { prefix: '/v1', queries });
  await app.register(usageRoutes, { prefix: '/v1', usage: new UsageService(platform.usage, admin) });
  const promotions = new PromotionService(temporal, platform.prompts.store, platform.evalSets, deployments, {
    temporalUiUrl: config.TEMPORAL_UI_URL,
    topK: 8,
    rerankCandidates: config.RERANK_CANDIDATES,
  });
  await app.register(promptRoutes, { prefix: '/v1', prompts: new PromptService(platform.prompts, platform.audit, deployments), promotions });
  await app.register(deploymentRoutes, { prefix: '/v1', deployments });
  await app.register(modelRoutes, { prefix: '/v1', models: new ModelService(config.chatModels, platform.usage) });
  await app.register(experimentRoutes, {
    prefix: '/v1',
    experiments: new ExperimentService(platform.experiments, platform.prompts, platform.collections, config.chatModels.map((m) => m.name), platform.audit),
  });
  await app.register(feedbackRoutes, { prefix: '/v1', feedback: new FeedbackService(platform.answers, platform.metadata, platform.collections, admin) });
  await app.register(codecRoutes, { codec: platform.payloads.codec });
  return app;
}

/** What answers depend on in this deployment's configuration: a change is a new cache scope (the prompt version is added per request). */
function answerSettings(config: Config) {
  return {
    // A cached answer is served as it was stored: one of another shape must never be found.
    format: ANSWER_FORMAT,
    chatModels: config.chatModels,
    routing: config.ROUTING_POLICY,
    reranker: [config.RERANKER, config.RERANK_MODEL, config.RERANK_CANDIDATES],
    relevanceFloor: config.RELEVANCE_FLOOR,
  };
}
