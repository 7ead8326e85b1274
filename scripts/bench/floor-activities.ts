/** The floor workflow's activities: the same names and count as the order's path, doing nothing. */
export function createFloorActivities() {
  const noop = async (orderId: string) => orderId;
  return {
    reserveStock: noop,
    openPayment: async (orderId: string) => `secret_${orderId}`,
    recordPayment: noop,
    commitSale: noop,
    sendConfirmation: noop,
  };
}
export type FloorActivities = ReturnType<typeof createFloorActivities>;
