/**
 * The `lastmile.yml` that `lastmile init` writes. `schema`: the JSON Schema's path relative to
 * the project, for editors; `command`: how the user runs lastmile (`lastmile` or `npx lastmile`).
 */
export function demoConfig(receiverPort: number, schema: string, command: string): string {
  return `# Lastmile demo project: competitor prices from an embedded DuckDB warehouse
# pushed to a local pricing engine (start it with: ${command} receiver --port ${receiverPort}).
# yaml-language-server: $schema=${schema}
version: 1
state: .lastmile

sources:
  warehouse:
    type: duckdb
    path: ./warehouse.duckdb

destinations:
  pricing_engine:
    type: http
    url: http://127.0.0.1:${receiverPort}/v2/bulk-update
    headers: { Authorization: "Bearer demo-token" }
    batch: { size: 500 }

models:
  competitor_prices:
    source: warehouse
    sql: SELECT sku, competitor, price, currency, updated_at FROM competitor_prices
    primaryKey: sku

syncs:
  prices_to_engine:
    model: competitor_prices
    destination: pricing_engine
    mode: upsert
    match: { sku: id }
    mapping:
      price: amount
      currency: currency
      source: { static: scraper }
      label: { template: "{{ sku | upcase }} @ {{ competitor }}" }
`;
}
