export default function EntityGraph({ bankId }: { bankId: string }) {
  return <h1 data-bank={bankId}>Entity graph</h1>;
}
