export function Tags({ tags }: { tags: string[] | null | undefined }) {
  if (!tags?.length) return <span className="muted">—</span>;
  return (
    <span>
      {tags.map((tag) => (
        <span key={tag} className="tag">
          {tag}
        </span>
      ))}
    </span>
  );
}
