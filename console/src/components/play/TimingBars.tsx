import { formatMs } from './format';

export interface TimingStage {
  label: string;
  ms: number;
  /** Recall's four search arms are drawn in a colour of their own, apart from the other steps and the total. */
  kind?: 'step' | 'arm' | 'total';
}

/**
 * One horizontal bar per stage, scaled to the longest. Each row is one image to a screen reader,
 * named by its stage and time ("semantic 3.2 ms"): the drawn bar adds nothing a listener needs.
 */
export function TimingBars({ stages, label }: { stages: TimingStage[]; label: string }) {
  const longest = Math.max(...stages.map((stage) => stage.ms), 0);
  return (
    <div className="play-timing" role="group" aria-label={label}>
      {stages.map((stage, index) => {
        const name = `${stage.label} ${formatMs(stage.ms)}`;
        const share = longest > 0 ? Math.max((stage.ms / longest) * 100, 0.5) : 0;
        return (
          <div key={index} className="play-timing-row" role="img" aria-label={name} title={name}>
            <span className="play-timing-label">{stage.label}</span>
            <span className="play-timing-track">
              <span className={`play-timing-bar play-timing-${stage.kind ?? 'step'}`} style={{ width: `${share}%` }} />
            </span>
            <span className="play-timing-value">{formatMs(stage.ms)}</span>
          </div>
        );
      })}
    </div>
  );
}
