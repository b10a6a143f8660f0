/**
 * What the sign-in path needs from notifications; NotificationService
 * implements it (template, queued job, retries).
 */
export interface SignInNotifier {
  /** A successful sign-in from a network this account had not used; must never throw into the sign-in. */
  signInFromNewIp(user: { id: string; email: string }, ip: string, at: Date): Promise<void>;
}
