/**
 * The memories of a bank whose `entity_ids` (migration 1766200000000) are missing or say other
 * than their `unit_entities` rows: `[]` when every writer kept the copy. Compared as sorted sets,
 * so a repeated id is a difference too.
 */
export async function entityIdsOffTheirLinks(
  query: (text: string, params: unknown[]) => Promise<unknown[]>,
  bankId: string,
): Promise<Array<{ text: string; entity_ids: string[] | null; links: string[] }>> {
  return (await query(
    `SELECT m.text, m.entity_ids, ARRAY(SELECT ue.entity_id FROM unit_entities ue WHERE ue.bank_id = m.bank_id AND ue.unit_id = m.id ORDER BY 1) AS links
       FROM memory_units m
      WHERE m.bank_id = $1
        AND (m.entity_ids IS NULL
             OR ARRAY(SELECT id FROM unnest(m.entity_ids) AS id ORDER BY 1)
                IS DISTINCT FROM ARRAY(SELECT ue.entity_id FROM unit_entities ue WHERE ue.bank_id = m.bank_id AND ue.unit_id = m.id ORDER BY 1))`,
    [bankId],
  )) as Array<{ text: string; entity_ids: string[] | null; links: string[] }>;
}

/** A bank's entities by canonical name, each with its count and the links it really has. */
export async function entitiesWithLinkCounts(
  query: (text: string, params: unknown[]) => Promise<unknown[]>,
  bankId: string,
): Promise<Array<{ id: string; canonical_name: string; mention_count: number; links: string }>> {
  return (await query(
    `SELECT e.id, e.canonical_name, e.mention_count, (SELECT count(*) FROM unit_entities ue WHERE ue.bank_id = e.bank_id AND ue.entity_id = e.id) AS links
       FROM entities e WHERE e.bank_id = $1 ORDER BY e.canonical_name`,
    [bankId],
  )) as Array<{ id: string; canonical_name: string; mention_count: number; links: string }>;
}
