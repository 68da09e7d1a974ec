export default function Observations({ bankId }: { bankId?: string }) {
  return <p>{bankId} — coming soon.</p>;
}
