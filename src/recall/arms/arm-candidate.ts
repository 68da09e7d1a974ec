/** One memory an arm found; an arm returns them best first, so rank = index + 1. */
export interface ArmCandidate {
  id: string;
  /** The arm's own measure, only comparable within the arm. */
  score: number;
}
