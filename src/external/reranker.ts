/**
 * Scores how well each document answers a query. Scores are aligned with the input order, one
 * per document, higher is better; they compare documents of one call, not across calls.
 */
export interface Reranker {
  rerank(query: string, documents: string[], signal?: AbortSignal): Promise<number[]>;
}
