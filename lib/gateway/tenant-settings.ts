import { z } from 'zod';

/** Lowercase letters, digits and single '-': tenant ids prefix index names, where `__` separates parts. */
export const tenantIdSchema = z
  .string()
  .regex(/^[a-z0-9](?:-?[a-z0-9]){0,31}$/, 'tenant ids are 1-32 characters of a-z, 0-9 and single "-", starting and ending with a letter or digit');

/** Existed before tenants did: data uploaded then belongs to it, and GATEWAY_AUTH=off acts for it. */
export const DEFAULT_TENANT = 'default';
/** The operators' tenant: its admin keys create tenants and manage every tenant's keys. It holds no documents. */
export const PLATFORM_TENANT = 'platform';

export const SCOPES = ['ingest', 'query', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const PII_ENTITIES = ['email', 'phone', 'credit_card', 'iban', 'national_id'] as const;
export type PiiEntity = (typeof PII_ENTITIES)[number];

const tokens = z.number().int().min(1).max(1_000_000_000).nullable();

/** What a tenant may spend and how its requests are guarded. Every field has a default. */
export const tenantSettingsSchema = z
  .object({
    budgets: z
      .object({
        tokensPerMinute: tokens.default(null).describe('model tokens (input + output) per minute; null: unlimited'),
        tokensPerDay: tokens.default(null).describe('model tokens per UTC day; null: unlimited'),
        costUsdPerDay: z
          .number()
          .positive()
          .max(1_000_000)
          .nullable()
          .default(null)
          .describe('spend on model and embedding calls per UTC day in USD, at the configured prices (the usage ledger); null: unlimited'),
      })
      .strict()
      .default({ tokensPerMinute: null, tokensPerDay: null, costUsdPerDay: null }),
    rateLimit: z
      .object({ requestsPerMinute: z.number().int().min(1).max(1_000_000).nullable().default(null).describe("per API key, unless the key sets its own; null: the deployment's default") })
      .strict()
      .default({ requestsPerMinute: null }),
    guardrails: z
      .object({
        promptInjection: z.enum(['block', 'flag', 'off']).default('block').describe('questions that try to override the instructions: refused (400), recorded only, or not checked'),
        retrievedInstructions: z
          .enum(['flag', 'drop'])
          .default('flag')
          .describe('retrieved chunks that carry instructions: kept as quoted data (the prompt says so) and recorded, or kept from the model'),
        pii: z
          .object({
            question: z.enum(['mask', 'off']).default('mask').describe('masked before retrieval, the model, the workflow history and the logs'),
            answer: z.enum(['mask', 'off']).default('mask').describe('masked in the answer text and citation quotes'),
            entities: z.array(z.enum(PII_ENTITIES)).default([...PII_ENTITIES]),
          })
          .strict()
          .default({ question: 'mask', answer: 'mask', entities: [...PII_ENTITIES] }),
      })
      .strict()
      .default({ promptInjection: 'block', retrievedInstructions: 'flag', pii: { question: 'mask', answer: 'mask', entities: [...PII_ENTITIES] } }),
    cache: z
      .object({
        answers: z
          .enum(['semantic', 'exact', 'off'])
          .default('semantic')
          .describe("cached answers for this tenant: the same question, or also a paraphrase of a cached one; never more than the deployment's ANSWER_CACHE allows"),
        semanticThreshold: z
          .number()
          .min(0.5)
          .max(1)
          .nullable()
          .default(null)
          .describe("similarity of two questions' embeddings at which a cached answer serves a paraphrase; null: the deployment's default"),
      })
      .strict()
      .default({ answers: 'semantic', semanticThreshold: null }),
    models: z
      .object({
        allowed: z
          .array(z.string().min(1).max(40))
          .max(100)
          .nullable()
          .default(null)
          .describe('the configured chat models this tenant may be routed to; null: every one. A tenant allowed none is answered extractively'),
      })
      .strict()
      .default({ allowed: null }),
  })
  .strict();

export type TenantSettings = z.infer<typeof tenantSettingsSchema>;
export type GuardrailSettings = TenantSettings['guardrails'];
export type RetrievedInstructionsPolicy = GuardrailSettings['retrievedInstructions'];

export const DEFAULT_TENANT_SETTINGS: TenantSettings = tenantSettingsSchema.parse({});

/** Settings as stored may predate a field: parsing fills in today's defaults. */
export function readTenantSettings(stored: unknown): TenantSettings {
  return tenantSettingsSchema.parse(stored ?? {});
}
