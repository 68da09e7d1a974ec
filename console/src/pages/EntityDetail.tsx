export default function EntityDetail({ entityId }: { bankId: string; entityId: string }) {
  return <h1>{entityId}</h1>;
}
