export default function RecallPlayground({ bankId }: { bankId: string }) {
  return <h1 data-bank={bankId}>Recall</h1>;
}
