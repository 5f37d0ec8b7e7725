// The floor's one activity: it answers at once with what it was given.
export const floorActivities = {
  async step(call: { name: string; node: string }): Promise<{ name: string; node: string }> {
    return call;
  },
};
export type FloorActivities = typeof floorActivities;
