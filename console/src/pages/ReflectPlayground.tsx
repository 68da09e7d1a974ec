export default function ReflectPlayground({ bankId }: { bankId: string }) {
  return <h1 data-bank={bankId}>Reflect</h1>;
}
