export default function Entities({ bankId }: { bankId?: string }) {
  return <p>{bankId} — coming soon.</p>;
}
