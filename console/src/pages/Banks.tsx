export default function Banks({ bankId }: { bankId?: string }) {
  return <p>{bankId} — coming soon.</p>;
}
