export default function MentalModels({ bankId }: { bankId?: string }) {
  return <p>{bankId} — coming soon.</p>;
}
