export default function Memories({ bankId }: { bankId?: string }) {
  return <p>{bankId} — coming soon.</p>;
}
