export default function MemoryDetail({ memoryId }: { bankId: string; memoryId: string }) {
  return <h1>{memoryId}</h1>;
}
