/**
 * What the sign-in path needs from notifications. The mail itself belongs to
 * the notifications module (templates, the job queue); until it lands,
 * MailSignInNotifier (services/sign-in-notifier.ts) sends a plain mail.
 */
export interface SignInNotifier {
  /** A successful sign-in from a network this account had not used; must never throw into the sign-in. */
  signInFromNewIp(user: { id: string; email: string }, ip: string, at: Date): Promise<void>;
}
