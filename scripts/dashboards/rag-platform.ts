import { DashboardBuilder, RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

/** The provisioned Prometheus data source (ops/grafana/provisioning/datasources). */
const PROMETHEUS = { type: 'prometheus', uid: 'prometheus' };

const panel = (title: string, unit: string, exprs: string[]) => {
  const built = new PanelBuilder().title(title).unit(unit).datasource(PROMETHEUS).height(8).span(12);
  exprs.forEach((expr, i) => built.withTarget(new DataqueryBuilder().expr(expr).refId(String.fromCharCode(65 + i)).datasource(PROMETHEUS)));
  return built;
};

/** Rows of panels: what an operator of the platform watches. */
const ROWS: [string, [string, string, string[]][]][] = [
  ['Latency', [
    ['Query p50 / p95 (s)', 's', ['histogram_quantile(0.5, sum by (le) (rate(http_server_request_duration_seconds_bucket{http_route="/v1/query"}[5m])))', 'rag:query_duration_seconds:p95_rate5m']],
    ['Query stages p95 (s)', 's', ['histogram_quantile(0.95, sum by (le, stage) (rate(rag_query_stage_duration_seconds_bucket{mode="answer"}[5m])))']],
    ['Requests by route and status (/s)', 'reqps', ['sum by (http_route, http_response_status_code) (rate(http_server_request_duration_seconds_count[5m]))']],
    ['Model call p95 (s)', 's', [
      'histogram_quantile(0.95, sum by (le, gen_ai_operation_name, gen_ai_request_model) (rate(gen_ai_client_operation_duration_seconds_bucket[5m])))',
      'histogram_quantile(0.95, sum by (le, gen_ai_request_model) (rate(gen_ai_client_operation_time_to_first_chunk_seconds_bucket[5m])))',
    ]],
  ]],
  ['Tokens and cost', [
    ['Tokens by model and type (/s)', 'short', ['sum by (gen_ai_operation_name, gen_ai_request_model, gen_ai_token_type) (rate(gen_ai_client_token_usage_sum[5m]))']],
    ['Spend (USD per hour)', 'currencyUSD', ['sum by (gen_ai_request_model) (increase(rag_model_cost_usd_total[1h]))']],
    ['Budget, limit and ceiling refusals (/s)', 'reqps', ['sum by (code) (rate(rag_api_refusals_total{code=~"rate_limited|token_budget_exceeded|request_exceeds_token_budget|cost_ceiling_reached|request_exceeds_cost_ceiling|too_many_failed_authentications"}[5m]))']],
    ['Model call errors (/s)', 'reqps', ['sum by (gen_ai_request_model, error_type) (rate(gen_ai_client_operation_duration_seconds_count{error_type!=""}[5m]))']],
  ]],
  ['Providers', [
    ['Circuit breakers (0 closed, 1 half-open, 2 open)', 'short', ['max by (provider) (rag_circuit_breaker_state)']],
    ['Fallbacks and validation failures (/s)', 'reqps', ['sum by (provider) (rate(rag_answer_fallbacks_total[5m]))', 'sum by (provider) (rate(rag_citation_validation_failures_total[5m]))']],
  ]],
  ['Ingestion', [
    ['Pages and chunks ingested (/s)', 'short', ['sum(rate(rag_ingest_pages_total[5m]))', 'sum(rate(rag_ingest_chunks_total[5m]))']],
    ['Backlog by stage', 'short', ['sum by (stage) (rag_ingest_backlog_documents)']],
    ['Documents finished by outcome (/s)', 'short', ['sum by (outcome) (rate(rag_ingest_documents_total[5m]))']],
    ['Temporal activity schedule-to-start p95 (s)', 's', ['histogram_quantile(0.95, sum by (le, task_queue) (rate(temporal_activity_schedule_to_start_latency_bucket[5m])))']],
  ]],
  ['Quality', [
    ['Not-found rate', 'percentunit', ['rag:answers_not_found:ratio_rate30m']],
    ['Validation-repair and fallback rates', 'percentunit', ['rag:answers_repaired:ratio_rate30m', 'rag:answers_fallback:ratio_rate30m']],
    ['Empty-retrieval rate', 'percentunit', ['rag:retrievals_empty:ratio_rate30m']],
    ['Guardrail decisions (/s)', 'short', ['sum by (stage, check, outcome) (rate(rag_guardrail_decisions_total{outcome!="pass"}[5m]))']],
  ]],
  ['Cache', [
    ['Hit ratio: answers (exact + semantic) and embeddings', 'percentunit', [
      'sum(rate(rag_cache_lookups_total{cache="answer",outcome=~"exact|semantic"}[5m])) / sum(rate(rag_cache_lookups_total{cache="answer",outcome!="off"}[5m]))',
      'sum(rate(rag_cache_lookups_total{cache="embedding",outcome="hit"}[5m])) / sum(rate(rag_cache_lookups_total{cache="embedding",outcome=~"hit|miss"}[5m]))',
    ]],
    ['Cache lookups by outcome (/s; error: the store did not answer)', 'short', ['sum by (cache, outcome) (rate(rag_cache_lookups_total[5m]))']],
  ]],
];

/**
 * The platform's Grafana dashboard, built with Grafana's Foundation SDK (its builders and types are
 * generated from Grafana's own schema). `npm run dashboards` writes it to ops/grafana/dashboards;
 * a test checks the file is this function's output.
 */
export function ragPlatformDashboard(): Dashboard {
  const board = new DashboardBuilder('RAG platform').uid('rag-platform').tags(['rag']).timezone('utc').refresh('30s').time({ from: 'now-6h', to: 'now' }).readonly();
  // Panel ids are stable, so links to a panel (?viewPanel=) survive a rebuild.
  let id = 1;
  for (const [row, panels] of ROWS) {
    board.withRow(new RowBuilder(row).id(id++));
    for (const [title, unit, exprs] of panels) board.withPanel(panel(title, unit, exprs).id(id++));
  }
  return board.build();
}
