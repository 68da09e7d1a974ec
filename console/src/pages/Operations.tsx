export default function Operations({ bankId }: { bankId: string }) {
  return <h1 data-bank={bankId}>Operations</h1>;
}
