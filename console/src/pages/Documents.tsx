export default function Documents({ bankId }: { bankId?: string }) {
  return <p>{bankId} — coming soon.</p>;
}
